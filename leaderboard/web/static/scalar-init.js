// Starts Scalar on the API docs page (/schema). A file, not an inline <script>, so the
// page's Content-Security-Policy allows scripts from this service only. (Not the element
// id "api-reference": Scalar's script mounts itself there at load, without this config.)
"use strict";
const element = document.getElementById("scalar-docs");
window.Scalar.createApiReference(element, {
  url: element.dataset.openapiUrl,
  // The docs work offline and talk to nobody but this service: no fonts from Scalar's
  // CDN, no telemetry, no proxy for "try it" requests (they go to this service), and
  // none of the features that need Scalar's cloud (AI agent, MCP, its developer toolbar).
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: "",
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
});
