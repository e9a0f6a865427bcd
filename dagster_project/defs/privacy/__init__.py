"""Data-subject requests that change the warehouse: erasures written to the ops store by the API."""
