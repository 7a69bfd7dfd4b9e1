/*
 * Bootstraps the offline GraphiQL page (web/templates/graphiql.html).
 * Kept out of the template so the page needs no inline script (CSP script-src 'self').
 * Requires the vendored UMD globals React, ReactDOM and GraphiQL.
 */
(function () {
  'use strict';

  var DEFAULT_QUERY = '{ serverInfo { version databaseBackend migrationHead } }';
  var ACCEPT = 'application/graphql-response+json, application/json';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.getAttribute('content')) || '';
  }

  function showError(container, message) {
    container.textContent = '';
    var p = document.createElement('p');
    p.className = 'graphiql-loading graphiql-error';
    p.textContent = message;
    container.appendChild(p);
  }

  // Plain fetch-based fetcher: POST JSON, same-origin cookies, CSRF header.
  // (No websocket / multipart transport, so nothing but connect-src 'self' is needed.)
  function makeFetcher(endpoint) {
    return function fetcher(graphQLParams, opts) {
      var headers = {};
      var extra = (opts && opts.headers) || {};
      Object.keys(extra).forEach(function (name) {
        headers[name] = String(extra[name]);
      });
      headers['Content-Type'] = 'application/json';
      if (!Object.keys(headers).some(function (h) { return h.toLowerCase() === 'accept'; })) {
        headers['Accept'] = ACCEPT;
      }
      var token = csrfToken();
      if (token) {
        headers['X-CSRF-Token'] = token;
      }
      return fetch(endpoint, {
        method: 'POST',
        headers: headers,
        body: JSON.stringify(graphQLParams),
        credentials: 'same-origin'
      }).then(function (response) {
        return response.text().then(function (text) {
          try {
            return JSON.parse(text);
          } catch (e) {
            return {
              errors: [{
                message: 'HTTP ' + response.status + ' ' + response.statusText +
                  ': 响应不是 JSON / response is not JSON',
                extensions: { body: text.slice(0, 2000) }
              }]
            };
          }
        });
      });
    };
  }

  function init() {
    var container = document.getElementById('graphiql');
    if (!container) {
      return;
    }
    if (!window.React || !window.ReactDOM || !window.GraphiQL) {
      showError(container, 'GraphiQL 资源加载失败（React / ReactDOM / GraphiQL 未找到）。');
      return;
    }
    var endpoint = container.getAttribute('data-endpoint') || '/graphql';
    // GraphiQL's dialogs (react-remove-scroll-bar) inject one <style> element and tag it
    // with the global __webpack_nonce__ if set; otherwise CSP style-src 'self' blocks it
    // (harmless: only the body scroll lock is lost, and this page never scrolls).
    var styleNonce = container.getAttribute('data-style-nonce');
    if (styleNonce) {
      window.__webpack_nonce__ = styleNonce;
    }
    container.textContent = '';
    var root = window.ReactDOM.createRoot(container);
    root.render(window.React.createElement(window.GraphiQL, {
      fetcher: makeFetcher(endpoint),
      defaultQuery: DEFAULT_QUERY,
      shouldPersistHeaders: false
    }));
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
