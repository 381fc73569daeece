"""`kurator demo`: fills a running stack with synthetic families, through the API."""
