# One image for the web and worker processes; the command picks the role.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    FLASK_APP=wsgi

WORKDIR /srv/playground

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Run as an unprivileged user with a numeric id, as OpenShift assigns arbitrary ones in group 0.
RUN useradd --uid 10001 --gid 0 --home-dir /srv/playground --no-create-home playground \
    && mkdir -p instance && chgrp -R 0 /srv/playground && chmod -R g=u /srv/playground
USER 10001

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

# Web by default; the worker runs `flask worker`, migrations `flask db upgrade`.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "--timeout", "120", "--access-logfile", "-", "wsgi:app"]
