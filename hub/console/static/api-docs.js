// Starts Swagger UI on /api/docs. A file of its own, not an inline script: the console's
// Content-Security-Policy allows scripts from the console itself only.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: false,
    layout: "BaseLayout",
  });
});
