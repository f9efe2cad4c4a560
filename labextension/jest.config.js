// jest on the panel's model host (src/serverModel.ts) with the real table module
// (src/vendor/table.js, copied from jupyter_exp/widgets/ by `jlpm vendor`) under jsdom.
// JupyterLab and Lumino ship ES modules: babel compiles them along with our sources.
const esModules = ['@jupyterlab', '@lumino', '@jupyter', 'lib0', 'y-protocols', 'yjs'].join('|');

module.exports = {
  testEnvironment: '<rootDir>/tests/environment.js',
  testMatch: ['<rootDir>/tests/**/*.spec.ts'],
  setupFiles: ['<rootDir>/tests/setup.js'],
  transform: { '\\.[jt]sx?$': 'babel-jest' },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules})/)`],
  moduleNameMapper: { '\\.css$': '<rootDir>/tests/style-mock.js' },
  collectCoverageFrom: ['src/serverModel.ts', 'src/api.ts', 'src/runForm.ts', 'src/queueView.ts', 'src/queueWhere.ts', 'src/vendor/table.js'],
  coverageReporters: ['text-summary']
};
