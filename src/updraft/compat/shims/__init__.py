"""Small Airflow helpers that have no Updraft counterpart of the same shape (``days_ago``, ``State``...)."""
