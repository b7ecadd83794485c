"""The API's validation errors in words for people (rag/api/errors.py `describe`): what was wrong
with which value and what to send, named as the client sent it; never pydantic's wording
("Input should be", "Value error,") or FastAPI's locations ("body.k", "query.k")."""

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from rag.api.errors import describe
from rag.api.schemas import AskRequest, ChatRequest


def errors_of(model, data, source="body"):
    """The errors FastAPI would hand `describe`: pydantic's, located under the request part."""
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    return [{**e, "loc": (source, *e["loc"])} for e in raised.value.errors()]


class Checked(BaseModel):
    question: str

    @field_validator("question")
    @classmethod
    def _words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty: type a question")
        return value


@pytest.mark.parametrize(
    "model, data, message",
    [
        (AskRequest, {"question": "长沙", "k": "abc"}, "k must be a whole number from 1 to 50 (got 'abc')"),
        (AskRequest, {"question": "长沙", "k": None, "colour": "red"}, "colour is not a known field: remove it"),
        (AskRequest, {}, "question is required: add it to the request"),
        (AskRequest, {"question": None}, "question must be text (got null)"),
        (AskRequest, ["长沙"], "the request body must be a JSON object (got a list)"),
        (ChatRequest, {"messages": []}, "messages must have at least 1 item (got 0)"),
        (ChatRequest, {"messages": [{"role": "user", "content": 5}]}, "messages[0].content must be text or a list (got 5)"),
        (ChatRequest, {"messages": [{"role": "user", "content": "hi"}], "stream": "maybe"}, "stream must be true or false (got 'maybe')"),
        (ChatRequest, {"messages": [{"role": "wizard"}]}, "messages[0].role must be 'system', 'user', 'assistant', 'tool' or 'developer' (got 'wizard')"),
        (Checked, {"question": " "}, "the question is empty: type a question"),  # a validator's own words, without "Value error,"
    ],
)
def test_validation_errors_read_as_written_for_people(model, data, message):
    assert describe(errors_of(model, data)) == message


def test_query_parameters_are_named_as_sent_and_problems_joined():
    class Query(BaseModel):
        start: int
        end: int

    assert describe(errors_of(Query, {"start": "x"}, source="query")) == "start must be a whole number (got 'x'); end is required: add it to the request"


def test_a_missing_body_says_what_to_send():
    assert describe([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]) == "the request has no body: send a JSON object"


def test_an_unknown_kind_of_error_keeps_its_meaning_without_pydantic_words():
    error = {"type": "uuid_parsing", "loc": ("body", "id"), "msg": "Input should be a valid UUID, invalid character", "input": "x"}
    assert describe([error]) == "id must be a valid UUID, invalid character (got 'x')"
