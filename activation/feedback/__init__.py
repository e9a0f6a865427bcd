"""Provider feedback: verify what providers tell us about sent messages, and land it.

SES (through SNS) and SendGrid report deliveries, bounces, complaints, opens, clicks and
unsubscribes. The webhook endpoints call this framework-free core: verify the signature,
parse into `FeedbackEvent`s, `land_feedback` them as one `message_events` batch file.
"""

from activation.feedback.errors import (
    CertificateUnavailableError,
    FeedbackParseError,
    SignatureVerificationError,
)
from activation.feedback.events import (
    BounceType,
    FeedbackEvent,
    FeedbackType,
    land_feedback,
    message_event_id,
    to_arrow,
)
from activation.feedback.sendgrid import (
    RejectedItem,
    SendGridBatch,
    parse_sendgrid_events,
    verify_sendgrid_signature,
)
from activation.feedback.ses import parse_ses_event, parse_ses_sns_message
from activation.feedback.sns import (
    CertificateLoader,
    subscribe_url,
    subscription_arn_from_confirmation,
    verify_sns_message,
)
from activation.feedback.sns_certificates import HttpsCertificateLoader

__all__ = [
    "BounceType",
    "CertificateLoader",
    "CertificateUnavailableError",
    "FeedbackEvent",
    "FeedbackParseError",
    "FeedbackType",
    "HttpsCertificateLoader",
    "RejectedItem",
    "SendGridBatch",
    "SignatureVerificationError",
    "land_feedback",
    "message_event_id",
    "parse_sendgrid_events",
    "parse_ses_event",
    "parse_ses_sns_message",
    "subscribe_url",
    "subscription_arn_from_confirmation",
    "to_arrow",
    "verify_sendgrid_signature",
    "verify_sns_message",
]
