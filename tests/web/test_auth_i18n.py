"""The account pages and the error page follow the visitor's interface language."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app.models import User


def test_login_page_in_english_and_chinese(client) -> None:  # type: ignore[no-untyped-def]
    english = client.get("/login")
    assert english.status_code == 200
    assert "<h1>Log in</h1>" in english.text
    assert '<label for="username">Username</label>' in english.text
    assert "登录" not in english.text

    client.cookies.set("lang", "zh")
    chinese = client.get("/login")
    assert chinese.status_code == 200
    assert '<html lang="zh"' in chinese.text
    assert "<h1>登录</h1>" in chinese.text
    assert '<label for="username">用户名</label>' in chinese.text
    assert '<label for="password">密码</label>' in chinese.text
    assert "Log in" not in chinese.text
    # The form itself is untouched: ids, names and the CSRF field.
    assert 'id="username" name="username"' in chinese.text
    assert re.search(r'name="csrf_token" value="[^"]+"', chinese.text)


def test_accept_language_picks_chinese_for_visitors(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/signup", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "<h1>注册</h1>" in page.text
    assert '<label for="password_confirm">确认密码</label>' in page.text
    assert "创建账户" in page.text


def test_error_page_in_chinese(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("lang", "zh")
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "404 · 未找到" in page.text
    assert "返回卡组" in page.text


def test_password_page_follows_the_account_locale(learner_client, engine) -> None:  # type: ignore[no-untyped-def]
    english = learner_client.get("/account/password").text
    assert "Logged in as <strong>learner</strong>." in english
    assert "<h1>Change password</h1>" in english

    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "learner")).one()
        user.locale = "zh"
        session.add(user)
        session.commit()
    chinese = learner_client.get("/account/password").text
    assert "<h1>修改密码</h1>" in chinese
    assert '<label for="current_password">当前密码</label>' in chinese
    assert "当前登录账户：<strong>learner</strong>。" in chinese
    assert "退出登录" in chinese
