[# Phi Tray's installer: pynsist's template (pyapp.nsi, which this extends) with its own sections.

   Before a file is copied, a running agent is stopped and waited for (stop_agent.py): it holds python311.dll,
   the .pyd files and OpenVINO's DLLs open. An upgrade removes what the install before it laid out, as its
   list names, and its packages folder whole, then installs afresh. install-list.txt (build.py writes it)
   names every file and folder the install lays out, the byte-compiled modules included; the installer adds
   "keep" lines for folders that were there before it (the install folder itself, Python, lib, pkgs). The
   uninstaller deletes exactly the listed files and then each listed folder that is empty and not kept: it
   never removes a folder it did not create, nor a file it did not install. #]
[% extends "pyapp.nsi" %]

[% block ui_pages %]
[# Per user only (build.py sets MULTIUSER_EXECUTIONLEVEL Standard): no "for all users?" page. #]
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; The finish page starts the agent (an installer that ends with nothing on screen looks like it failed) and
; turns on start on login, as `phitray autostart on` does. Silent installs: /RUN and /AUTOSTART.
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_TEXT "Run Phi Tray"
!define MUI_FINISHPAGE_RUN_FUNCTION RunAgent
!define MUI_FINISHPAGE_SHOWREADME
!define MUI_FINISHPAGE_SHOWREADME_TEXT "Start when I log in"
!define MUI_FINISHPAGE_SHOWREADME_FUNCTION StartOnLogin
!insertmacro MUI_PAGE_FINISH
[% endblock ui_pages %]

[% block sections %]
!include StrFunc.nsh
!define APP_ID "PhiTray.Agent"
!define LIST "install-list.txt"

; $0: the text of the next line of the open list ($R0) without its line end; "" with the error flag at its end.
!macro ReadListLine
  ClearErrors
  FileReadUTF16LE $R0 $0
  StrCpy $1 $0 1 -1
  StrCmp $1 "$\n" 0 +2
    StrCpy $0 $0 -1
  StrCpy $1 $0 1 -1
  StrCmp $1 "$\r" 0 +2
    StrCpy $0 $0 -1
!macroend

; Remove what $INSTDIR\install-list.txt names: each "f" file, then each "d" folder when empty and not kept.
; Leaves the kept folders' names, ";"-separated, in $R2.
!macro RemoveListed un find
Function ${un}RemoveListed
  StrCpy $R2 ";"
  ClearErrors
  FileOpen $R0 "$INSTDIR\${LIST}" r
  IfErrors done
  keeps:
    !insertmacro ReadListLine
    IfErrors files
    StrCpy $1 $0 5
    StrCmp $1 "keep " 0 keeps
    StrCpy $1 $0 "" 5
    StrCpy $R2 "$R2$1;"
    Goto keeps
  files:
    FileSeek $R0 2 SET  ; past the byte-order mark
  next:
    !insertmacro ReadListLine
    IfErrors close
    StrCpy $1 $0 2
    StrCpy $2 $0 "" 2
    StrCmp $1 "f " 0 +3
      Delete "$INSTDIR\$2"
      Goto next
    StrCmp $1 "d " 0 next
      ${${find}} $3 $R2 ";$2;"
      StrCmp $3 "" 0 next
      RMDir "$INSTDIR\$2"
      Goto next
  close:
    FileClose $R0
    Delete "$INSTDIR\${LIST}"
  done:
FunctionEnd
!macroend
!insertmacro RemoveListed "" StrStr
!insertmacro RemoveListed "un." UnStrStr

; Stop the installed agent and wait until none of its processes runs (killing them after a deadline).
!macro StopAgent un
Function ${un}StopAgent
  IfFileExists "$INSTDIR\Python\python.exe" 0 done
  DetailPrint "Stopping Phi Tray..."
  InitPluginsDir
  SetOutPath "$PLUGINSDIR"
  File "stop_agent.py"
  SetOutPath "$INSTDIR"
  nsExec::ExecToLog '"$INSTDIR\Python\python.exe" "$PLUGINSDIR\stop_agent.py" "$INSTDIR"'
  Pop $0
  StrCmp $0 "0" done
    MessageBox MB_OK|MB_ICONSTOP "Phi Tray is still running from $INSTDIR and would not end. End it in Task Manager, then run this again." /SD IDOK
    Abort
  done:
FunctionEnd
!macroend
!insertmacro StopAgent ""
!insertmacro StopAgent "un."

Section "-Make room" sec_room
  Call StopAgent
  StrCpy $R2 ";"
  IfFileExists "$INSTDIR\Phi_Tray.launch.pyw" 0 first
    Call RemoveListed  ; an upgrade: what the last install laid out goes (an install before the list had none)
    ; and the packages folder whole, unless it was there before the first install: nothing stale may import.
    ${StrStr} $0 $R2 ";pkgs;"
    StrCmp $0 "" 0 kept
    RMDir /r "$INSTDIR\pkgs"
    Goto kept
  first:  ; a first install: the folders already there are the person's (the install folder: when it holds anything)
    FindFirst $0 $1 "$INSTDIR\*.*"
    entries:
      StrCmp $1 "" entries_done
      StrCmp $1 "." +3
      StrCmp $1 ".." +2
        StrCpy $R2 "$R2.;"
      StrCmp $R2 ";.;" entries_done
      FindNext $0 $1
      Goto entries
    entries_done:
    FindClose $0
    IfFileExists "$INSTDIR\Python\*.*" 0 +2
      StrCpy $R2 "$R2Python;"
    IfFileExists "$INSTDIR\lib\*.*" 0 +2
      StrCpy $R2 "$R2lib;"
    IfFileExists "$INSTDIR\pkgs\*.*" 0 +2
      StrCpy $R2 "$R2pkgs;"
  kept:
  StrCpy $R3 $R2  ; written into the new list once it is in place
SectionEnd

Section "!${PRODUCT_NAME}" sec_app
  SetRegView [[ib.py_bitness]]
  SectionIn RO
  File ${PRODUCT_ICON}
  SetOutPath "$INSTDIR\pkgs"
  File /r "pkgs\*.*"
  SetOutPath "$INSTDIR"

  ; Marker file for per-user install
  StrCmp $MultiUser.InstallMode CurrentUser 0 +3
    FileOpen $0 "$INSTDIR\${USER_INSTALL_MARKER}" w
    FileClose $0
    SetFileAttributes "$INSTDIR\${USER_INSTALL_MARKER}" HIDDEN

  [% for destination, group in grouped_files %]
    SetOutPath "[[destination]]"
    [% for file in group %]
      File "[[ file ]]"
    [% endfor %]
  [% endfor %]
  [% for dir, destination in ib.install_dirs %]
    SetOutPath "[[ pjoin(destination, dir) ]]"
    File /r "[[dir]]\*.*"
  [% endfor %]

  ; The shortcut's working folder is the home folder.
  SetOutPath "%HOMEDRIVE%\%HOMEPATH%"
  [% for scname, sc in ib.shortcuts.items() %]
  CreateShortCut "$SMPROGRAMS\[[scname]].lnk" "[[sc['target'] ]]" '[[ sc['parameters'] ]]' "$INSTDIR\[[ sc['icon'] ]]"
  [% endfor %]
  SetOutPath "$INSTDIR"

  DetailPrint "Byte-compiling Python modules..."
  nsExec::ExecToLog '[[ python ]] -m compileall -q "$INSTDIR\pkgs"'
  ; The shortcut carries the AppUserModelID the agent takes (NSIS cannot set a shortcut's properties).
  [% for scname in ib.shortcuts %]
  nsExec::ExecToLog '[[ python ]] -m phitray.desktop.windows_shortcut "$SMPROGRAMS\[[scname]].lnk" ${APP_ID}'
  Pop $0
  [% endfor %]
  WriteUninstaller $INSTDIR\uninstall.exe

  ; The list of what this install laid out, and the folders that were there before it.
  File "${LIST}"
  FileOpen $R0 "$INSTDIR\${LIST}" a
  FileSeek $R0 0 END
  keeps:
    StrCpy $R3 $R3 "" 1  ; past the ";"
    StrCmp $R3 "" written
    ${StrStr} $1 $R3 ";"
    StrLen $2 $1
    StrLen $3 $R3
    IntOp $3 $3 - $2
    StrCpy $4 $R3 $3
    FileWriteUTF16LE $R0 "keep $4$\r$\n"
    StrCpy $R3 $1
    Goto keeps
  written:
  FileClose $R0

  ; Windows names the process's notifications and taskbar entries from its AppUserModelID (the agent sets it).
  WriteRegStr HKCU "Software\Classes\AppUserModelId\${APP_ID}" "DisplayName" "${PRODUCT_NAME}"
  WriteRegStr HKCU "Software\Classes\AppUserModelId\${APP_ID}" "IconUri" "$INSTDIR\phitray.png"

  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "DisplayName" "${PRODUCT_NAME}"
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "DisplayIcon" "$INSTDIR\${PRODUCT_ICON}"
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "Publisher" "[[ib.publisher]]"
  WriteRegStr SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "DisplayVersion" "${PRODUCT_VERSION}"
  WriteRegDWORD SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "NoModify" 1
  WriteRegDWORD SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}" "NoRepair" 1
SectionEnd

; The finish page's two choices, for a silent install: /RUN and /AUTOSTART.
Section "-Silent choices"
  IfSilent 0 done
  ${GetParameters} $R8  ; not $0: the functions called here use it
  ClearErrors
  ${GetOptions} '$R8' "/AUTOSTART" $R9
  IfErrors +2
    Call StartOnLogin
  ClearErrors
  ${GetOptions} '$R8' "/RUN" $R9
  IfErrors +2
    Call RunAgent
  done:
SectionEnd

Function RunAgent
  SetOutPath "$PROFILE"  ; the working folder the shortcut gives it
  Exec '"$INSTDIR\Python\pythonw.exe" "$INSTDIR\Phi_Tray.launch.pyw"'
  SetOutPath "$INSTDIR"
FunctionEnd

Function StartOnLogin
  ; What the agent's own `phitray autostart on` writes when the launch script started it.
  System::Call 'Kernel32::SetEnvironmentVariable(t "PHITRAY_LAUNCH_SCRIPT", t "$INSTDIR\Phi_Tray.launch.pyw")'
  nsExec::ExecToLog '"$INSTDIR\Python\python.exe" -m phitray autostart on'
  Pop $0
FunctionEnd

Section "-un.Stop the agent"
  Call un.StopAgent
SectionEnd

Section "Uninstall"
  SetRegView [[ib.py_bitness]]
  SetShellVarContext all
  IfFileExists "$INSTDIR\${USER_INSTALL_MARKER}" 0 +3
    SetShellVarContext current
    Delete "$INSTDIR\${USER_INSTALL_MARKER}"
  Call un.RemoveListed
  Delete "$INSTDIR\uninstall.exe"
  [% for scname in ib.shortcuts %]
  Delete "$SMPROGRAMS\[[scname]].lnk"
  [% endfor %]
  ${UnStrStr} $3 $R2 ";.;"
  StrCmp $3 "" 0 +2
    RMDir "$INSTDIR"  ; only when empty: anything of the person's keeps it
  DeleteRegKey SHCTX "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT_NAME}"
  DeleteRegKey HKCU "Software\Classes\AppUserModelId\${APP_ID}"
SectionEnd

; After the program: what the agent itself wrote outside its folder.
Section "-un.Forget the agent"
  ; Start on login (`phitray autostart on`) and Task Manager's on/off switch for it.
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "${PRODUCT_NAME}"
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "${PRODUCT_NAME}"
  ; Where the launch script of versions before 0.2 wrote its output (now the log folder's launch.log).
  Delete "$APPDATA\Phi_Tray.launch.pyw.log"
  ; The person's settings, actions and models stay unless they say otherwise; a silent
  ; uninstall (/S) keeps them, `/PURGE` removes them too.
  ${un.GetParameters} $0
  ClearErrors
  ${un.GetOptions} '$0' "/PURGE" $1
  IfErrors 0 purge
  IfSilent keep
  MessageBox MB_YESNO|MB_DEFBUTTON2 "Also remove your Phi Tray settings, actions and downloaded models ($LOCALAPPDATA\phitray)?" IDNO keep
  purge:
    RMDir /r "$LOCALAPPDATA\phitray"
  keep:
SectionEnd
[% endblock sections %]
