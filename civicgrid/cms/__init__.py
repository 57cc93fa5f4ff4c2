"""Community home sites on Wagtail, in each tenant schema (the resident-sites issue)."""
