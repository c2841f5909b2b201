"""The fdrbench leaderboard: a Streamlit app over ``results/`` that never runs a model.

``index`` builds the precomputed summary the overview reads, ``ranking`` turns it into ranks
with ties, ``pairs`` runs paired tests between runs, ``app`` and ``views/`` are the pages.
Only ``app`` and ``views`` import Streamlit.
"""
