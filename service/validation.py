"""Reading and checking ``POST /v1/predict`` bodies; every problem raises an ``InputError`` naming its place.

A batch is all or nothing: if any input is invalid the whole request is rejected (422) with the first
offending index and the number of other invalid inputs, so nothing is tagged or dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Request

from model.errors import InputError, PayloadTooLargeError
from model.settings import Settings

TOP_LEVEL_FIELDS = ("inputs", "parameters")
ITEM_FIELDS = ("id", "text")
# Parameter name -> default (None: the default comes from settings).
PARAMETER_DEFAULTS = {"return_all_scores": True, "evidence": True, "truncate": None}
JSON_CHARSETS = ("utf-8", "utf8")


@dataclass(frozen=True)
class PredictRequest:
    """A checked predict request: one id, text and truncation flag per input, in input order."""

    ids: tuple[str | int, ...]
    texts: tuple[str, ...]
    truncated: tuple[bool, ...]
    return_all_scores: bool
    evidence: bool


def read_json_body(request: Request, max_bytes: int) -> object:
    """The request body parsed as strict UTF-8 JSON (415, 413 or 400 when it cannot be)."""
    if not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        shown = request.mimetype or "none"
        raise InputError(f"Content-Type must be application/json, got {shown}", code="unsupported_media_type")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in JSON_CHARSETS:
        raise InputError(f"JSON must be UTF-8, got charset={charset}", code="unsupported_media_type")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds the limit of {max_bytes} bytes")
    raw = request.get_data(cache=False)  # werkzeug also enforces MAX_CONTENT_LENGTH while reading
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds the limit of {max_bytes} bytes")
    if not raw.strip():
        raise InputError('request body is empty; send a JSON object with "inputs"', code="malformed_json")
    return parse_json(raw)


def parse_json(raw: bytes) -> object:
    """Strict JSON: UTF-8 only, no NaN or Infinity."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"request body is not valid UTF-8 (bad byte at offset {exc.start}); JSON must be UTF-8",
            code="invalid_encoding",
        ) from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", code="malformed_json"
        ) from exc
    except (ValueError, RecursionError) as exc:  # NaN/Infinity, huge integers, absurd nesting
        raise InputError(f"malformed JSON: {exc}", code="malformed_json") from exc


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_predict_request(payload: object, settings: Settings) -> PredictRequest:
    """Check a parsed body against the predict contract and the limits in ``settings``."""
    if not isinstance(payload, dict):
        raise InputError(f"body must be a JSON object, got {_json_type(payload)}", code="invalid_type")
    _reject_unknown(payload, TOP_LEVEL_FIELDS, "body")
    if "inputs" not in payload:
        raise InputError('body lacks the required field "inputs"', code="missing_field")
    parameters = _parameters(payload.get("parameters", {}), settings)
    items = _input_list(payload["inputs"], settings.max_batch)
    objects = isinstance(items[0], dict)  # the first item sets the form of the whole batch
    ids, texts, truncated, problems = [], [], [], []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            given_id, raw_text = _item(item, index, objects)
            _check_id(given_id, index, seen_ids)
            text, cut = _check_text(raw_text, index, settings.max_chars, parameters["truncate"])
        except InputError as exc:
            problems.append(exc)
            continue
        ids.append(index if given_id is None else given_id)
        texts.append(text)
        truncated.append(cut)
    if problems:
        raise _first_of(problems)
    return PredictRequest(
        ids=tuple(ids),
        texts=tuple(texts),
        truncated=tuple(truncated),
        return_all_scores=parameters["return_all_scores"],
        evidence=parameters["evidence"],
    )


def _first_of(problems: list[InputError]) -> InputError:
    first = problems[0]
    if len(problems) == 1:
        return first
    others = len(problems) - 1
    message = f"{first}; {others} other input{'s are' if others > 1 else ' is'} invalid too"
    return InputError(message, index=first.index, code=first.code)


def _reject_unknown(mapping: dict, allowed: tuple[str, ...], where: str, index: int | None = None) -> None:
    unknown = [name for name in mapping if name not in allowed]
    if unknown:
        names = ", ".join(json.dumps(name) for name in unknown)
        raise InputError(
            f"{where}: unknown field(s) {names}; allowed: {', '.join(allowed)}", index=index, code="unknown_field"
        )


def _parameters(raw: object, settings: Settings) -> dict[str, bool]:
    if not isinstance(raw, dict):
        raise InputError(f"parameters must be a JSON object, got {_json_type(raw)}", code="invalid_type")
    _reject_unknown(raw, tuple(PARAMETER_DEFAULTS), "parameters")
    chosen = {}
    for name, default in PARAMETER_DEFAULTS.items():
        value = raw.get(name, settings.truncate_long_texts if default is None else default)
        if not isinstance(value, bool):
            raise InputError(f"parameters.{name} must be true or false, got {_json_type(value)}", code="invalid_type")
        chosen[name] = value
    return chosen


def _input_list(inputs: object, max_batch: int) -> list:
    """The raw items of any accepted ``inputs`` form (one string is a batch of one)."""
    if isinstance(inputs, str):
        return [inputs]
    if not isinstance(inputs, list):
        raise InputError(
            f"inputs must be a string, a list of strings or a list of {{id, text}} objects, got {_json_type(inputs)}",
            code="invalid_type",
        )
    if not inputs:
        raise InputError("inputs is an empty list; send at least one text", code="empty_batch")
    if len(inputs) > max_batch:
        raise PayloadTooLargeError(f"{len(inputs)} inputs exceed the batch limit of {max_batch}")
    return inputs


def _item(item: object, index: int, objects: bool) -> tuple[object, object]:
    """(id or None, text) of one item; the text is checked by ``_check_text``."""
    if isinstance(item, dict) != objects or not isinstance(item, dict | str):
        expected = "an {id, text} object like inputs[0]" if objects else "a string like inputs[0]"
        if index == 0:
            expected = "a string or an {id, text} object"
        raise InputError(f"inputs[{index}] must be {expected}, got {_json_type(item)}", index, "invalid_type")
    if not objects:
        return None, item
    _reject_unknown(item, ITEM_FIELDS, f"inputs[{index}]", index)
    if "text" not in item:
        raise InputError(f'inputs[{index}] lacks the required field "text"', index, "missing_field")
    return item.get("id"), item["text"]


def _check_id(given_id: object, index: int, seen: dict[str, int]) -> None:
    if given_id is None:
        return
    if not isinstance(given_id, str) or not given_id:
        raise InputError(
            f"inputs[{index}].id must be a non-empty string, got {_json_type(given_id)}",
            index=index,
            code="invalid_type",
        )
    if given_id in seen:
        raise InputError(
            f"inputs[{index}].id {json.dumps(given_id)} duplicates inputs[{seen[given_id]}].id",
            index=index,
            code="duplicate_id",
        )
    seen[given_id] = index


def _check_text(text: object, index: int, max_chars: int, truncate: bool) -> tuple[str, bool]:
    """The text to tag and whether it was truncated to ``max_chars`` characters."""
    if not isinstance(text, str):
        raise InputError(f"inputs[{index}] text must be a string, got {_json_type(text)}", index, "invalid_type")
    if not text.strip():
        raise InputError(f"inputs[{index}] text is empty or whitespace only", index, "empty_text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a \ud800-style JSON escape
        raise InputError(
            f"inputs[{index}] text holds a lone surrogate (U+{ord(text[exc.start]):04X}) at character {exc.start}; "
            "send valid Unicode",
            index,
            "invalid_text",
        ) from exc
    if len(text) <= max_chars:
        return text, False
    if truncate:
        return text[:max_chars], True
    raise InputError(
        f"inputs[{index}] text has {len(text)} characters, over the limit of {max_chars} "
        '(send "parameters": {"truncate": true} to cut it instead)',
        index,
        "text_too_long",
    )


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
