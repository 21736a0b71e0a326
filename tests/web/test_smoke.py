def test_login_and_customer_list(web):
    site, app, browser = web(users={"boss": ["admin"]})
    anon = browser()
    r = anon.get("/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    b = browser("boss")
    r = b.get("/customers")
    assert r.status_code == 200, r.text
    assert "上海浦江精密机械有限公司" in r.text
