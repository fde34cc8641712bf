"""Salesforce Outbound Messages adapter: authentication, safe parsing, mapping, SOAP answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from goals.ingest.adapters import salesforce
from goals.ingest.adapters.base import Credentials, Delivery, Malformed, ObjectState, Refused
from shared.events.activity import ActivityEvent

ORG_18 = "00D5e000000AbCdEAK"
ORG_15 = ORG_18[:15]
TOKEN = "tok-current-5f2c9a"
OLD_TOKEN = "tok-retired-77b1e0"

OPPORTUNITY = """
    <Notification>
     <Id>{notification_id}</Id>
     <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
      <sf:Id>{opportunity_id}</sf:Id>
      <sf:Amount>120000.0</sf:Amount>
      <sf:StageName>{stage}</sf:StageName>
      <sf:IsWon>{is_won}</sf:IsWon>
      <sf:CloseDate>2026-03-05</sf:CloseDate>
      <sf:OwnerId>0055e000001RepAAA</sf:OwnerId>
      <sf:AccountId>0015e00000AccAAA</sf:AccountId>{extra}
     </sObject>
    </Notification>"""


def opportunity(
    notification_id: str = "04l5e00000ABCDEAA1",
    opportunity_id: str = "0065e00000QwErTAAZ",
    stage: str = "Closed Won",
    is_won: str = "true",
    extra: str = "",
) -> str:
    return OPPORTUNITY.format(
        notification_id=notification_id,
        opportunity_id=opportunity_id,
        stage=stage,
        is_won=is_won,
        extra=extra,
    )


def envelope(*notifications: str, org: str = ORG_18) -> bytes:
    return f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5e000000XyZaAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D5e000000AbCd</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D5e000000AbCd</PartnerUrl>
{"".join(notifications or (opportunity(),))}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def delivery(body: bytes, token: str | None = TOKEN) -> Delivery:
    return Delivery(
        method="POST",
        url=f"https://quotient.example/v1/webhooks/src-1/salesforce/{token}",
        headers={"content-type": "text/xml; charset=utf-8", "soapaction": '""'},
        body=body,
        now=1772704800.0,
        path_token=token,
    )


def credentials(org: str = ORG_18, **settings: object) -> Credentials:
    return Credentials(secrets=(TOKEN, OLD_TOKEN), settings={"organization_id": org, **settings})


def events(body: bytes, creds: Credentials | None = None) -> list:
    creds = creds or credentials()
    d = delivery(body)
    salesforce.authenticate(d, creds)
    payload = salesforce.decode(d)
    assert salesforce.objects(payload) == set()
    return salesforce.to_events(payload, creds, ObjectState())


# --- the spec example ----------------------------------------------------------------------


def test_spec_example_maps_to_deal_won() -> None:
    [mapped] = events(envelope())
    assert mapped.index == 0
    assert mapped.error is None
    assert mapped.raw["id"] == "04l5e00000ABCDEAA1"
    assert mapped.event == {
        "id": "salesforce:04l5e00000ABCDEAA1",
        "type": "deal_won",
        "occurred_at": "2026-03-05T00:00:00+00:00",
        "actor_id": "0055e000001RepAAA",
        "deal_id": "0065e00000QwErTAAZ",
        "customer": {"id": "0015e00000AccAAA"},
        "amount": {"value": "120000.0", "currency": "CNY"},
        "attributes": {
            "stage": "Closed Won",
            "salesforce": {"object": "Opportunity", "action_id": "04k5e000000XyZaAAK"},
        },
    }
    ActivityEvent.model_validate(mapped.event)


def test_decode_shape() -> None:
    payload = salesforce.decode(delivery(envelope()))
    assert payload["organization_id"] == ORG_18
    assert payload["action_id"] == "04k5e000000XyZaAAK"
    [notification] = payload["notifications"]
    assert notification["id"] == "04l5e00000ABCDEAA1"
    assert notification["type"] == "Opportunity"
    assert notification["fields"] == {
        "Id": "0065e00000QwErTAAZ",
        "Amount": "120000.0",
        "StageName": "Closed Won",
        "IsWon": "true",
        "CloseDate": "2026-03-05",
        "OwnerId": "0055e000001RepAAA",
        "AccountId": "0015e00000AccAAA",
    }


def test_last_modified_and_currency_win_over_close_date_and_default() -> None:
    extra = (
        "<sf:LastModifiedDate>2026-03-05T09:59:12.000Z</sf:LastModifiedDate>"
        "<sf:CurrencyIsoCode>usd</sf:CurrencyIsoCode>"
    )
    [mapped] = events(envelope(opportunity(extra=extra)))
    assert mapped.event["occurred_at"] == "2026-03-05T09:59:12+00:00"
    assert mapped.event["amount"] == {"value": "120000.0", "currency": "USD"}


def test_default_currency_from_settings() -> None:
    [mapped] = events(envelope(), credentials(currency="EUR"))
    assert mapped.event["amount"]["currency"] == "EUR"


def test_two_notifications_two_events() -> None:
    body = envelope(
        opportunity(),
        opportunity("04l5e00000ABCDEAA2", "0065e00000ZzZzZAAZ", "Proposal/Price Quote", "false"),
    )
    first, second = events(body)
    assert (first.index, second.index) == (0, 1)
    assert first.event["id"] == "salesforce:04l5e00000ABCDEAA1"
    assert second.event["id"] == "salesforce:04l5e00000ABCDEAA2"
    assert second.event["type"] == "quote_sent"
    assert second.event["deal_id"] == "0065e00000ZzZzZAAZ"
    assert "amount" not in second.event  # money only on deal_won
    assert second.event["attributes"]["stage"] == "Proposal/Price Quote"


def test_redelivery_has_the_same_id() -> None:
    assert events(envelope())[0].event == events(envelope())[0].event


# --- authentication ------------------------------------------------------------------------


def test_wrong_organization_is_refused() -> None:
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(envelope(org="00D5e000000ZzZzEAK")), credentials())


def test_missing_organization_is_refused() -> None:
    body = envelope().replace(f"<OrganizationId>{ORG_18}</OrganizationId>".encode(), b"")
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(body), credentials())


def test_unregistered_organization_is_refused() -> None:
    creds = Credentials(secrets=(TOKEN,), settings={})
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(envelope()), creds)


def test_fifteen_char_registered_id_matches_eighteen_char_message() -> None:
    salesforce.authenticate(delivery(envelope(org=ORG_18)), credentials(org=ORG_15))
    salesforce.authenticate(delivery(envelope(org=ORG_15)), credentials(org=ORG_18))


def test_org_id_prefix_is_case_sensitive() -> None:
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(envelope(org=ORG_18)), credentials(org=ORG_15.lower()))


@pytest.mark.parametrize("token", ["wrong-token", "", None, TOKEN + "x", TOKEN[:-1]])
def test_wrong_or_missing_path_token_is_refused(token: str | None) -> None:
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(envelope(), token=token), credentials())


def test_retired_token_still_verifies() -> None:
    salesforce.authenticate(delivery(envelope(), token=OLD_TOKEN), credentials())


def test_empty_secret_never_matches() -> None:
    creds = Credentials(secrets=("",), settings={"organization_id": ORG_18})
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(envelope(), token=""), creds)


# --- hostile and broken bodies -------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>00D5e000000AbCdEAK&lol2;</OrganizationId></notifications>
</soapenv:Body></soapenv:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>&xxe;</OrganizationId></notifications></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, b"<!doctype x>" + envelope()])
def test_doctype_is_never_parsed(body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a body with a DTD reached the XML parser")

    monkeypatch.setattr(ET, "fromstring", no_parsing)
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(body), credentials())
    with pytest.raises(Malformed):
        salesforce.decode(delivery(body))


def test_utf16_body_cannot_hide_a_doctype() -> None:
    body = XXE.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16")
    with pytest.raises(Malformed):
        salesforce.decode(delivery(body))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<a><b></a>",
        b'{"meta": {}}',
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><other/></soapenv:Body></soapenv:Envelope>",
        b"<notifications xmlns='http://soap.sforce.com/2005/09/outbound'/>",
    ],
)
def test_not_an_outbound_message_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        salesforce.decode(delivery(body))
    with pytest.raises(Refused):
        salesforce.authenticate(delivery(body), credentials())


def test_more_than_100_notifications_is_malformed() -> None:
    body = envelope(*(opportunity(f"04l5e00000N{i:07d}") for i in range(101)))
    with pytest.raises(Malformed):
        salesforce.decode(delivery(body))
    assert (
        len(salesforce.decode(delivery(envelope(*[opportunity()] * 100)))["notifications"]) == 100
    )


# --- mapping rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("Prospecting", "lead_created"),
        ("Qualification", "first_contact"),
        ("Needs Analysis", "first_contact"),
        ("Proposal/Price Quote", "quote_sent"),
        ("Negotiation/Review", "quote_sent"),
        ("Closed Won", "deal_won"),
        ("Closed Lost", "deal_lost"),
    ],
)
def test_default_stage_map(stage: str, expected: str) -> None:
    [mapped] = events(envelope(opportunity(stage=stage, is_won="false")))
    assert mapped.event["type"] == expected
    ActivityEvent.model_validate(mapped.event)


def test_is_won_means_deal_won_whatever_the_stage() -> None:
    [mapped] = events(envelope(opportunity(stage="Signed", is_won="true")))
    assert mapped.event["type"] == "deal_won"
    assert mapped.event["amount"]["value"] == "120000.0"


def test_unmapped_stage_records_nothing() -> None:
    [mapped] = events(envelope(opportunity(stage="Id. Decision Makers", is_won="false")))
    assert mapped.event is None and mapped.error is None


def test_stage_map_setting_overrides_and_extends() -> None:
    creds = credentials(stage_map={"Id. Decision Makers": "first_contact", "Prospecting": None})
    [extended] = events(envelope(opportunity(stage="Id. Decision Makers", is_won="false")), creds)
    assert extended.event["type"] == "first_contact"
    [ignored] = events(envelope(opportunity(stage="Prospecting", is_won="false")), creds)
    assert ignored.event is None and ignored.error is None


def test_no_date_is_an_error() -> None:
    body = envelope().replace(b"<sf:CloseDate>2026-03-05</sf:CloseDate>", b"")
    [mapped] = events(body)
    assert mapped.event is None
    assert "CloseDate" in mapped.error


def test_invalid_amount_is_an_error() -> None:
    body = envelope().replace(b"120000.0", b"lots")
    [mapped] = events(body)
    assert mapped.event is None and "Amount" in mapped.error


def test_unsupported_sobject_is_an_error() -> None:
    lead = """<Notification><Id>04l5e00000LEADAA1</Id>
      <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
       <sf:Id>00Q5e000001LeadAAA</sf:Id></sObject></Notification>"""
    first, second = events(envelope(opportunity(), lead))
    assert first.event is not None
    assert second.event is None
    assert second.error == "unsupported sObject type Lead"
    assert second.raw["type"] == "Lead"


def test_event_maps_to_visit_and_task_to_call() -> None:
    event = """<Notification><Id>04l5e00000EVNTAA1</Id>
      <sObject xsi:type="sf:Event" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
       <sf:Id>00U5e000001EvtAAA</sf:Id><sf:Subject>Site visit</sf:Subject>
       <sf:ActivityDateTime>2026-03-05T02:00:00.000Z</sf:ActivityDateTime>
       <sf:DurationInMinutes>45</sf:DurationInMinutes>
       <sf:OwnerId>0055e000001RepAAA</sf:OwnerId><sf:WhatId>0065e00000QwErTAAZ</sf:WhatId>
       <sf:AccountId>0015e00000AccAAA</sf:AccountId></sObject></Notification>"""
    task = """<Notification><Id>04l5e00000TASKAA1</Id>
      <sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
       <sf:Id>00T5e000001TskAAA</sf:Id><sf:Subject>Call</sf:Subject>
       <sf:ActivityDate>2026-03-04</sf:ActivityDate><sf:IsClosed>true</sf:IsClosed>
       <sf:OwnerId>0055e000001RepAAA</sf:OwnerId></sObject></Notification>"""
    visit, call = events(envelope(event, task))
    assert visit.event == {
        "id": "salesforce:04l5e00000EVNTAA1",
        "type": "visit",
        "occurred_at": "2026-03-05T02:00:00+00:00",
        "actor_id": "0055e000001RepAAA",
        "deal_id": "0065e00000QwErTAAZ",
        "customer": {"id": "0015e00000AccAAA"},
        "attributes": {
            "salesforce": {"object": "Event", "action_id": "04k5e000000XyZaAAK"},
            "duration_minutes": 45,
        },
    }
    assert call.event["type"] == "call"
    assert call.event["occurred_at"] == "2026-03-04T00:00:00+00:00"
    for mapped in (visit, call):
        ActivityEvent.model_validate(mapped.event)


def test_task_without_subject_is_unsupported() -> None:
    task = """<Notification><Id>04l5e00000TASKAA2</Id>
      <sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
       <sf:Id>00T5e000001TskAAB</sf:Id><sf:OwnerId>0055e000001RepAAA</sf:OwnerId>
      </sObject></Notification>"""
    [mapped] = events(envelope(task))
    assert mapped.error == "unsupported sObject type Task"


# --- the SOAP answer -----------------------------------------------------------------------


def test_respond_ack() -> None:
    status, content_type, body = salesforce.respond(True)
    assert status == 200
    assert content_type == "text/xml; charset=utf-8"
    assert b"<Ack>true</Ack>" in body
    root = ET.fromstring(body)
    ack = root.find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body"
        "/{http://soap.sforce.com/2005/09/outbound}notificationsResponse"
        "/{http://soap.sforce.com/2005/09/outbound}Ack"
    )
    assert ack is not None and ack.text == "true"


def test_respond_fault_so_salesforce_retries() -> None:
    status, content_type, body = salesforce.respond(False)
    assert status == 503
    assert content_type == "text/xml; charset=utf-8"
    assert b"<Ack>" not in body
    assert (
        ET.fromstring(body).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None
    )
