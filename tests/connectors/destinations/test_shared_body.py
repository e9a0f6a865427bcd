"""One shared body plus substitutions gives every recipient exactly the email rendered for them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.destinations.shared_body import (
    MAX_SUBSTITUTION_BYTES,
    MAX_SUBSTITUTIONS,
    BodyPieces,
    RequestPacking,
    shared_body,
    variable_runs,
)

# A piece's text never holds a line end or a '>': those end pieces (of text, of HTML).
piece_text = st.text(alphabet=st.characters(blacklist_characters="\n>"), max_size=30)
piece_end = st.sampled_from(["\n", ">"])


def as_received(skeleton: str | None, substitutions: dict[str, str]) -> str | None:
    """What SendGrid does for one personalization: replace each tag by its value."""
    if skeleton is None:
        return None
    for tag, value in substitutions.items():
        skeleton = skeleton.replace(tag, value)
    return skeleton


@st.composite
def same_shape_bodies(draw: st.DrawFn) -> list[tuple[str | None, str | None]]:
    """Bodies cut into the same number of pieces, each member changing some piece texts."""
    text = draw(st.one_of(st.none(), st.lists(st.tuples(piece_text, piece_end), max_size=8)))
    html = draw(st.lists(st.tuples(piece_text, piece_end), min_size=1, max_size=12))

    def member(pieces: list[tuple[str, str]]) -> str:
        return "".join(draw(st.one_of(st.just(t), piece_text)) + end for t, end in pieces)

    return [
        (member(text) if text is not None else None, member(html))
        for _ in range(draw(st.integers(1, 6)))
    ]


@settings(max_examples=200, deadline=None)
@given(same_shape_bodies())
def test_every_member_gets_back_exactly_its_own_text_and_html(
    bodies: list[tuple[str | None, str | None]],
) -> None:
    shared = shared_body([BodyPieces.of(text, html) for text, html in bodies])
    substitutions = shared.substitutions or [{} for _ in bodies]
    received = [(as_received(shared.text, s), as_received(shared.html, s)) for s in substitutions]
    assert received == bodies


def test_runs_of_adjacent_pieces_share_a_tag_but_never_span_text_and_html() -> None:
    assert variable_runs({0, 1, 2, 5, 6}, text_pieces=2) == [(0, 2), (2, 3), (5, 7)]


def test_identical_bodies_need_no_substitutions() -> None:
    body = BodyPieces.of("Hello", "<p>Hello</p>")
    shared = shared_body([body, body])
    assert (shared.text, shared.html, shared.substitutions) == ("Hello", "<p>Hello</p>", [])


def test_packing_refuses_members_beyond_the_limits() -> None:
    base = [f"<p>{k}</p>" for k in range(2 * MAX_SUBSTITUTIONS + 2)]  # 3 pieces a line
    packing = RequestPacking(0, BodyPieces.of(None, "\n".join(base)))
    every_other_line_differs = [
        f"<p>{k} changed</p>" if k % 2 else line for k, line in enumerate(base)
    ]
    assert not packing.admit(1, BodyPieces.of(None, "\n".join(every_other_line_differs)))
    too_big = [f"<p>{'x' * (MAX_SUBSTITUTION_BYTES + 1)}</p>", *base[1:]]
    assert not packing.admit(2, BodyPieces.of(None, "\n".join(too_big)))
    one_name = ["<p>Hello Ann</p>", *base[1:]]
    assert packing.admit(3, BodyPieces.of(None, "\n".join(one_name)))
    assert list(packing.members) == [0, 3]
