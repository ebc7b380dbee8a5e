"""``DbApiHook`` (``hooks.sql``) and the result handlers of ``DbApiHook.run`` (``hooks.handlers``)."""
