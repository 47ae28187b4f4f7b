"""Package data: the annotated default device."""
