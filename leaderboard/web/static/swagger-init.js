// Starts Swagger UI on /schema/swagger. A file, not an inline <script>, so the page's
// Content-Security-Policy allows scripts from this service only.
"use strict";
const element = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: element.dataset.openapiUrl,
  domNode: element,
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  // Swagger UI sends the schema to validator.swagger.io by default: keep it here.
  validatorUrl: null,
});
