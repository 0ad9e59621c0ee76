# syntax=docker/dockerfile:1
# MLflow tracking server: the same frozen Python environment as the local stack
# (deploy/local/mlflow-requirements.txt) plus the PostgreSQL driver for the production backend store.
FROM python:3.11.7-slim
COPY deploy/local/mlflow-requirements.txt /tmp/mlflow-requirements.txt
RUN pip install --no-cache-dir -r /tmp/mlflow-requirements.txt psycopg2-binary==2.9.10 \
    && useradd --system --uid 10001 mlflow
USER 10001
EXPOSE 5000
ENTRYPOINT ["mlflow"]
CMD ["server", "--host", "0.0.0.0", "--port", "5000"]
