"""Changes of a project's migration files that migdoctor makes itself (`migdoctor edit`)."""
