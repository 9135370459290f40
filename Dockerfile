# One image for the web and worker processes; the command picks the role.
# It runs as OpenShift runs it: any user id in group 0, a read-only root filesystem, and only /tmp
# writable (an emptyDir volume in deploy/; `tmpfs` in docker-compose.yml).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    FLASK_APP=wsgi \
    HOME=/tmp \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

WORKDIR /srv/playground

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Compiled once here: at run time nothing can be written beside the sources.
# The files belong to group 0 with the owner's rights, so that whatever user id OpenShift assigns (always in
# group 0) reads them; the image's own user has a fixed numeric id for plain Kubernetes and Compose.
RUN python -m compileall -q app workers scorers config.py wsgi.py gunicorn.conf.py \
    && useradd --uid 10001 --gid 0 --home-dir /srv/playground --no-create-home playground \
    && mkdir -p instance && chgrp -R 0 /srv/playground && chmod -R g=u /srv/playground
USER 10001

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

# Web by default (gunicorn.conf.py: PORT, WEB_CONCURRENCY, GUNICORN_THREADS); the worker runs
# `flask worker`, migrations `flask db upgrade`.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
