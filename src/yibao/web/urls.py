"""The pages. One line per page; helpers add theirs (views in yibao.web.views.<area>)."""

from django.urls import path

from .views import (
    audit,
    auth,
    backdate,
    campaign,
    cash,
    desk,
    funds,
    households,
    intake,
    ledger,
    office,
    outreach,
    policies,
)

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("menu/", auth.menu, name="menu"),
    # the collector's desk
    path("desk/", desk.desk, name="desk"),
    path("desk/person/<int:person_id>/", desk.person, name="person"),
    path("desk/person/<int:person_id>/id-number/", desk.person_id_number, name="person_id_number"),
    path("desk/person/<int:person_id>/facts/", desk.fact_add, name="fact_add"),
    path("desk/facts/<int:fact_id>/end/", desk.fact_end, name="fact_end"),
    path("desk/person/<int:person_id>/backdate/", backdate.backdate, name="backdate"),
    path("desk/pay/", desk.pay, name="pay"),
    path("desk/receipt/<str:key>/", desk.receipt, name="receipt"),
    path("desk/payments/<int:payment_id>/receipt/", desk.payment_receipt, name="payment_receipt"),
    path("desk/unpaid/", outreach.unpaid, name="unpaid"),
    path("desk/unpaid/export.xlsx", outreach.unpaid_export, name="unpaid_export"),
    path("desk/unpaid/<int:person_id>/contact/", outreach.contact, name="contact"),
    path("desk/cash/", cash.cash, name="cash"),
    path("desk/cash/remit/", cash.remit, name="remit"),
    path("funds/limits/", funds.limits, name="cash_limits"),
    path("funds/close/", funds.close, name="close"),
    path("funds/close/<int:close_id>/", funds.close_print, name="close_print"),
    path("funds/close/<int:close_id>/ack/", funds.close_acknowledge, name="close_ack"),
    path("funds/tax/", funds.tax, name="tax_import"),
    path("funds/notice/", funds.notice, name="notice"),
    path("funds/receipts/", funds.receipts, name="receipts"),
    path("funds/notice/export.xlsx", funds.notice_export, name="notice_export"),
    # the township office
    path("office/", office.dashboard, name="dashboard"),
    path("policy/", policies.policy_show, name="policy"),
    path("policy/supplements/", policies.supplement_load, name="policy_supplement"),
    path("households/new/", households.household_new, name="household_new"),
    path("households/check-id/", households.check_id, name="check_id"),
    path("ledger/", ledger.ledger, name="ledger"),
    path("ledger/export.xlsx", ledger.ledger_export, name="ledger_export"),
    path("audit/", audit.audit, name="audit"),
    # intake (yibao.intake): rosters, departments' lists, worklists
    path("intake/roster/", intake.roster, name="roster"),
    path("intake/areas/", intake.areas, name="areas"),
    path("intake/identity-lists/", intake.identity_lists, name="identity_lists"),
    path("intake/identity-lists/<int:list_id>/", intake.identity_list, name="identity_list"),
    path(
        "intake/identity-lists/<int:list_id>/decide/",
        intake.identity_list_decide,
        name="identity_list_decide",
    ),
    path("intake/person-lists/", intake.person_list_page, name="person_lists"),
    path("desk/worklists/", intake.worklists, name="worklists"),
    path("desk/worklists/export.xlsx", intake.worklist_export, name="worklist_export"),
    # the campaign: bulletins, targets and reductions, assessment, subsidy accounts
    path("office/bulletins/", campaign.bulletins, name="bulletins"),
    path("office/bulletins/export.xlsx", campaign.bulletin_export, name="bulletin_export"),
    path("office/bulletins/bulletin.pdf", campaign.bulletin_pdf, name="bulletin_pdf"),
    path("office/targets/", campaign.targets, name="targets"),
    path("office/targets/<int:table_id>/", campaign.target_table, name="target_table"),
    path("office/reductions/", campaign.reductions, name="reductions"),
    path("office/assessment/", campaign.assessment, name="assessment"),
    path("office/subsidy/", campaign.subsidy, name="subsidy"),
]
