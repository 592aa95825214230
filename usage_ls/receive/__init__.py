"""OpenTelemetry in: an OTLP/HTTP receiver that turns AI tools' telemetry into usage records.

- `otlp.py`: the HTTP endpoint (paths, Host check, body cap, status codes); `wire.py`: OTLP's
  protobuf and JSON encodings, gzip, the replies.
- `mapping.py`: log events -> records per tool (Claude Code, Codex, Gemini CLI, GenAI
  conventions) and which signal counts; `metrics.py`: metric points -> records;
  `series.py`: delta and cumulative temporality, persisted.
- `locallogs.py`: one API call, one record, when the tool's own log is on this machine too.
- `receiver.py`: the receiver and its socket's life (`Runner`); `setup.py`: `usage-ls setup`.

Started by the language server when `[receive] otlp` is set, or by `usage-ls receive`.
docs/live.md describes it for users.
"""
