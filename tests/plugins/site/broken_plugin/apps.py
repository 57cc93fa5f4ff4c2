"""A plugin whose import fails: start-up must go on without it."""

raise ImportError("this plugin needs a library the installation does not have (acme_missing_sdk)")
