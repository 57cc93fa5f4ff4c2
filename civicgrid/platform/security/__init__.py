"""Request hygiene applied to every request before any view sees it (see ``middleware``)."""
