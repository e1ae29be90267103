"""Who calls: guards, principals, sessions."""
