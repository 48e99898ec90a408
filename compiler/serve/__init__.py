"""`trackplan serve`: a local PostHog-compatible capture endpoint that validates every event live.

- `decode.py`: a capture request's body (JSON, gzip, base64, form `data=`) into events, with
  PostHog's status codes for what cannot be read (400, 401, 413, 415);
- `validate.py`: each event judged with the audit's own per-row rules (`Reference.row_findings`)
  and its cross-row rules (`sequence.python_violations`) over what the server has seen, per
  person;
- `store.py`: what was seen, in memory up to a bound, optionally appended to JSONL files that
  `trackplan audit` reads, and streamed to the live debugger page;
- `forward.py`: proxy mode, good events forwarded to PostHog in batches through a disk spool;
- `app.py`: the aiohttp application (capture routes, `/decide/` and `/flags/`, the inspection
  API under `/trackplan/`).
"""
