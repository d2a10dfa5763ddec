"""Keeping and judging: the search filters over favourites, stars and rejects
(``is:favorite``, ``is:rejected``, ``rating:>=4``); the service is ``Library.judge``
(api/judge.py)."""
