"""Book -> a static HTML site, for the preview server."""
