// keywork's API reference: Swagger UI over this server's own
// GET /openapi.json. Everything the page loads comes from this server (its
// Content-Security-Policy allows nothing else), so the online validator
// badge, which would send the spec's address elsewhere, is off.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayOperationId: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
