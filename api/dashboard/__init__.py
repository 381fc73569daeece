"""The indicators dashboard: one HTML page with its charts drawn on the server as inline SVG, so
it works offline, without JavaScript and under a strict Content-Security-Policy."""
