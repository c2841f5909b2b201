# The fdrbench leaderboard, served read-only on port 8501 (CPU only; no model, no torch).
#   docker build -t fdrbench-leaderboard .
#   docker run --rm -p 8501:8501 --read-only --tmpfs /tmp -v "$PWD/results:/results:ro" fdrbench-leaderboard
# Without -v the results folder baked in at build time (this repository's results/) is served.
FROM python:3.11-slim

WORKDIR /opt/fdrbench
COPY pyproject.toml setup.py README.md ./
COPY fdrbench ./fdrbench
COPY adapters ./adapters
COPY tasks ./tasks
COPY leaderboard ./leaderboard
RUN pip install --no-cache-dir ".[leaderboard]" && useradd --create-home --uid 1000 viewer

# the results the image serves when none is mounted over /results; nobody in the container may change them
COPY results /results
RUN chmod -R a-w /results

USER viewer
ENV HOME=/tmp PYTHONDONTWRITEBYTECODE=1
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=3)"
CMD ["fdrbench", "leaderboard", "--results", "/results", "--address", "0.0.0.0", "--port", "8501"]
