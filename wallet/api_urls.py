"""REST endpoints of the wallet app, mounted under /api/v1/."""

from django.urls import path

from wallet import api

urlpatterns = [
    path("wallet/", api.WalletDetailApi.as_view(), name="wallet-detail"),
    path("wallet/transactions/", api.TransactionListApi.as_view(), name="wallet-transactions"),
    path(
        "wallet/transactions/export/", api.TransactionExportApi.as_view(), name="wallet-transactions-export"
    ),
    path("wallet/deposits/", api.DepositCreateApi.as_view(), name="wallet-deposit-create"),
    path("wallet/withdrawals/", api.WithdrawalCreateApi.as_view(), name="wallet-withdrawal-create"),
    path("wallet/payments/<int:payment_id>/", api.PaymentDetailApi.as_view(), name="wallet-payment-detail"),
    path("wallet/limits/", api.DepositLimitApi.as_view(), name="wallet-limits"),
    path("payments/webhooks/<str:provider>/", api.PaymentWebhookApi.as_view(), name="payments-webhook"),
]
