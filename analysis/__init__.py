"""Statistics, figures and the exported dataset of a study."""
