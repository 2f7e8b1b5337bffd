"""edureport: county education ledgers to a checked rule-of-law report."""

__version__ = "0.1.0"
