/** Every built-in pane; importing a module registers it (one line per pane). */

import './files';
import './editor';
import './console';
import './shell';
import './webview';
import './presence';
import './chat';
