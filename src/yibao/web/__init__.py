"""The web application: the collector's desk (phone) and the township office (PC), in Chinese."""
