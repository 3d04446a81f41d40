FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY engine engine
COPY storage storage
RUN pip install --no-cache-dir .
EXPOSE 3000
CMD ["python", "-m", "bot", "serve"]
