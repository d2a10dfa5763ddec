"""The model manifest (data only): installed as ``glimpse_desktop.models`` so the registry
finds it in a wheel and in a source checkout alike. Weights never live here."""
