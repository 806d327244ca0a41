"""`/metrics`: Prometheus text with request counters by route template and account gauges."""

from __future__ import annotations

from tests.test_oauth import bind


async def test_metrics_count_requests_by_route_and_accounts_by_state(client, auth):
    account = await bind(client, auth)
    await client.put(f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=auth)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert (
        'oauth_proxy_http_requests_total{method="PUT",'
        'route="/api/v1/oauth/accounts/{account_id}/toggle",status="200"}'
    ) in body
    assert f"/accounts/{account['id']}/" not in body  # templates, not raw ids
    assert 'oauth_proxy_accounts{platform="qwen",state="disabled"}' in body
    assert "oauth_proxy_http_request_duration_seconds_bucket" in body


async def test_paths_no_route_answers_share_one_label(client):
    await client.get("/no/such/path/12345")
    body = (await client.get("/metrics")).text
    assert 'route="unmatched",status="404"' in body
    assert "12345" not in body
