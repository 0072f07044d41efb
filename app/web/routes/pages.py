"""The deck pages: home (decks), one deck, one card."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services import deck as deck_service
from app.web.deps import SessionDep
from app.web.templating import templates

router = APIRouter()

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    decks = deck_service.list_decks(session)
    return templates.TemplateResponse(
        request, "home.html", {"decks": decks, "total": sum(d.card_count for d in decks)}
    )


@router.get("/decks/{deck_path:path}", response_class=HTMLResponse)
def deck_page(request: Request, deck_path: str, session: SessionDep) -> Response:
    cards = deck_service.list_cards(session, deck_path.strip("/"))
    if not cards:
        raise HTTPException(status_code=404, detail=f"no deck {deck_path!r}")
    return templates.TemplateResponse(
        request, "deck.html", {"deck_path": deck_path.strip("/"), "cards": cards}
    )


@router.get("/cards/{card_id}", response_class=HTMLResponse)
def card_page(request: Request, card_id: str, session: SessionDep, lang: str = "en") -> Response:
    view = deck_service.get_card_view(session, card_id, lang)
    if view is None:
        new_id = deck_service.resolve_alias(session, card_id)
        if new_id:
            return RedirectResponse(f"/cards/{new_id}?lang={lang}", status_code=301)
        raise HTTPException(status_code=404, detail=f"no card {card_id!r}")
    return templates.TemplateResponse(
        request,
        "card.html",
        {"view": view, "card": view.card, "text": view.text, "language_names": LANGUAGE_NAMES},
    )
