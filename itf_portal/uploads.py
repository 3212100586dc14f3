"""Uploads are read no further than the largest file the portal accepts (a workbook of 5 MB), so
a huge upload never fills the disk; the view sees `request.upload_too_large`.

A request whose body is larger than `REQUEST_LIMIT` is refused by `middleware.request_size_limit`
before it is read; this handler stops a file over the limit in a request just under it."""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

UPLOAD_LIMIT = 5 * 1024 * 1024
# The workbook and the form around it (its token, a few fields); no page posts more.
REQUEST_LIMIT = UPLOAD_LIMIT + 256 * 1024


class SizeLimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > UPLOAD_LIMIT:
            self.request.upload_too_large = True
            # The rest of the body is read and dropped, so the person gets the page that says why.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
