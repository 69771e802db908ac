// Starts Swagger UI (swagger-ui-dist, served from node_modules by api/openapi.ts) on this API's
// document. A file rather than an inline script, so the page keeps CSP script-src 'self'.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true, tryItOutEnabled: false });
});
