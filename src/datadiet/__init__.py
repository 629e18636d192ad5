"""datadiet: find which training examples matter, and train on fewer of them."""

__version__ = "0.1.0"
