"""The widgets: views that render the document model and call its methods.

Views never compute attention; they read ``DocumentModel.result``.
"""
