"""The deck pages: home (decks, tags, search box), one deck, one tag, search, one card
(with the learner's own history of it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.services import deck as deck_service
from app.services import practice as practice_service
from app.services import search as search_service
from app.services.scheduling import service as scheduler
from app.services.scheduling import tag_study
from app.web.demo_panel import demo_panel
from app.web.deps import OptionalUser, SessionDep, SettingsDep
from app.web.exercise_panel import RATING_NAMES, exercise_panel
from app.web.i18n import LANGUAGES, normalise, request_language
from app.web.templating import templates

router = APIRouter()

LANGUAGE_NAMES = LANGUAGES


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    decks = deck_service.list_decks(session)
    mastery = search_service.mastery_by_deck(session, user.id) if user else {}
    counts = scheduler.deck_counts(session, user.id) if user else {}
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "decks": decks,
            "total": sum(d.card_count for d in decks),
            "tags": search_service.list_tags(session),
            "mastery": mastery,
            "counts": counts,
            # A learner with nothing studied yet gets the "start here" steps.
            "first_run": user is not None and not any(m.studied for m in mastery.values()),
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, session: SessionDep, q: str = "") -> Response:
    query = q.strip()[:200]
    hits = search_service.search(session, query, request_language(request)) if query else []
    return templates.TemplateResponse(request, "search.html", {"q": query, "hits": hits})


@router.get("/tags/{tag}", response_class=HTMLResponse)
def tag_page(request: Request, tag: str, session: SessionDep, user: OptionalUser) -> Response:
    cards = search_service.cards_with_tag(session, tag)
    if not cards:
        raise HTTPException(status_code=404, detail=f"no tag {tag!r}")
    counts = tag_study.tag_queue(session, user.id, tag).counts if user else None
    context = {"tag": tag, "cards": cards, "counts": counts}
    return templates.TemplateResponse(request, "tag.html", context)


@router.get("/decks/{deck_path:path}", response_class=HTMLResponse)
def deck_page(request: Request, deck_path: str, session: SessionDep) -> Response:
    cards = deck_service.list_cards(session, deck_path.strip("/"))
    if not cards:
        raise HTTPException(status_code=404, detail=f"no deck {deck_path!r}")
    return templates.TemplateResponse(
        request, "deck.html", {"deck_path": deck_path.strip("/"), "cards": cards}
    )


@router.get("/cards/{card_id}", response_class=HTMLResponse)
def card_page(
    request: Request,
    card_id: str,
    session: SessionDep,
    user: OptionalUser,
    lang: str | None = None,
) -> Response:
    # The card text follows ?lang=, else the learner's language setting.
    chosen = normalise(lang) or request_language(request)
    view = deck_service.get_card_view(session, card_id, chosen)
    if view is None:
        new_id = deck_service.resolve_alias(session, card_id)
        if new_id:
            suffix = f"?lang={chosen}" if lang else ""
            return RedirectResponse(f"/cards/{new_id}{suffix}", status_code=301)
        raise HTTPException(status_code=404, detail=f"no card {card_id!r}")
    # Only ever the asking learner's own history.
    history = practice_service.card_history(session, user.id, card_id) if user else None
    card = view.card
    demo = (
        demo_panel(request, card.demo_path, card.demo_params, card.demo_proves)
        if card.demo_path
        else None
    )
    exercise = exercise_panel(request, user.id if user else None, card_id=card.id)
    return templates.TemplateResponse(
        request,
        "card.html",
        {
            "view": view,
            "card": view.card,
            "text": view.text,
            "language_names": LANGUAGE_NAMES,
            "history": history,
            "demo": demo,
            "exercise": exercise,
            "rating_names": RATING_NAMES,
        },
    )


@router.get("/cards/{card_id}/demo", response_class=HTMLResponse)
def card_demo(request: Request, card_id: str, session: SessionDep) -> Response:
    """The card's demo with the card's parameters and "this card relies on it" flags:
    the panel alone for htmx (the practice page shows it under the card), else a page
    with a link back to the card."""
    card = deck_service.get_card(session, card_id)
    if card is None or not card.demo_path:
        raise HTTPException(status_code=404, detail=f"no demo for card {card_id!r}")
    demo = demo_panel(request, card.demo_path, card.demo_params, card.demo_proves)
    if demo is None:
        raise HTTPException(status_code=404, detail=f"the demo of card {card_id!r} is missing")
    fragment = request.headers.get("HX-Request") == "true"
    return templates.TemplateResponse(
        request,
        "demo/_card_demo.html" if fragment else "demo/card_demo.html",
        {"demo": demo, "card_id": card_id},
    )


# Only images: a card's pictures live beside it under content/; its sources and demos do not
# belong on the web.
CONTENT_MEDIA_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


@router.get("/content/{media_path:path}", include_in_schema=False)
def content_media(media_path: str, settings: SettingsDep) -> Response:
    if "\x00" in media_path:  # no file name holds one; the OS would refuse it with an error
        raise HTTPException(status_code=404, detail="no such image")
    root = settings.content_dir.resolve()
    target = (root / media_path).resolve()
    if (
        not target.is_relative_to(root)
        or target.suffix.lower() not in CONTENT_MEDIA_TYPES
        or not target.is_file()
    ):
        raise HTTPException(status_code=404, detail="no such image")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})
