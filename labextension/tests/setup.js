// What @lumino/widgets expects of a browser and jsdom lacks.
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
