-- Fails while loading, as a service with a bug at its top level does.
error("snlua_broken fails on purpose")
