"""Users, role assignments and (later) login and permissions."""
