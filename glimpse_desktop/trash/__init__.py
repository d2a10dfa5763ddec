"""Delete to the system trash, Recently deleted (30 days), and keeping one copy of duplicates:
``Library.trash`` (service.py), the platform's trash (system.py), records (records.py)."""
