// jsdom, plus the fetch classes of Node that jsdom leaves out (ServerConnection's
// settings name Request and Headers; the test's fake fetch answers with Response).
const { TestEnvironment } = require('jest-environment-jsdom');

class Environment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['fetch', 'Request', 'Response', 'Headers', 'TextEncoder', 'TextDecoder', 'structuredClone']) {
      if (this.global[name] === undefined) {
        this.global[name] = globalThis[name];
      }
    }
  }
}

module.exports = Environment;
