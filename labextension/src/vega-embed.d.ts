// vega-embed's own types are reachable only through its package "exports", which this
// project's moduleResolution ("node", as JupyterLab's extension template has it) does not
// read; the part src/vega.ts calls is declared here. Webpack resolves the real module.
declare module 'vega-embed' {
  const embed: (el: HTMLElement, spec: any, options?: any) => Promise<any>;
  export default embed;
}
