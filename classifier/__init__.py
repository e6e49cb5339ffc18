"""Text and models: spaCy preprocessing and scikit-learn classifiers for the taxonomy."""
