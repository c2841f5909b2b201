"""The leaderboard's pages; each module's ``render(ctx)`` draws one page with Streamlit."""
